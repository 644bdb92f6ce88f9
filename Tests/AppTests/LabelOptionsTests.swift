import LabelGraphics
import RequestTracker
import Testing

@testable import RequestTrackerUtilsApp

@Suite struct LabelOptionsTests {
    static let options = LabelOptions(
        large: .init(widthMm: 100, heightMm: 62), small: .init(widthMm: 90.3, heightMm: 29), defaultSize: .large,
        footer: "Western CUSD #12")

    static let laptop = AssetDetails(
        RTAsset(
            id: 7, name: "W12-00042", description: "ThinkPad T14", owner: "alice",
            customFields: [
                "Serial Number": ["pf4abcd9"], "Internal Name": ["Brave Otter"], "Model": ["20W0"],
                "Funding Source": ["Title I"], "Type": ["Laptop"],
            ]))

    @Test func theUrlChoosesTheSizeElseTheTypeElseTheSetting() {
        let options = Self.options
        #expect(options.size(requested: .small, assetType: "Laptop") == .small)
        #expect(options.size(requested: .large, assetType: "Charger") == .large)
        #expect(options.size(requested: nil, assetType: "Laptop") == .large)
        for type in ["Charger", "power adapter", " CABLE ", "Power Adapter"] {
            #expect(options.size(requested: nil, assetType: type) == .small, "\(type)")
        }
        #expect(options.size(requested: nil, assetType: "Cables") == .large)
        var small = options
        small.defaultSize = .small
        #expect(small.size(requested: nil, assetType: "") == .small)
        #expect(small.size(requested: .large, assetType: "") == .large)
        #expect(options.dimensions(.small) == .init(widthMm: 90.3, heightMm: 29))
        #expect(options.caption(.small) == "90.3 × 29 mm" && options.caption(.large) == "100 × 62 mm")
    }

    @Test func detailsFromRT() {
        let details = Self.laptop
        #expect(details.id == 7 && details.tag == "W12-00042" && details.name == "ThinkPad T14")
        #expect(details.internalName == "Brave Otter" && details.model == "20W0" && details.type == "Laptop")
        #expect(details.fundingSource == "Title I" && details.serial == "pf4abcd9" && details.owner == "alice")
        let placeholder = AssetDetails(RTAsset(id: 8, name: "W12-1", owner: "Nobody", customFields: ["Model": ["N/A"]]))
        #expect(placeholder.model == "" && placeholder.owner == "" && placeholder.name == "W12-1")
    }

    @Test func largeLabelsPrintTheOriginalsFields() {
        let lines = LabelOptions.lines(Self.laptop, size: .large).filter { !$0.text.isEmpty }
        #expect(
            lines == [
                .init("internal-name", "N: Brave Otter"), .init("serial", "S: PF4ABCD9"), .init("model", "M: 20W0"),
                .init("funding", "F: Title I"),
            ])
        // RT's owner changes at check-in: not on a label; a typed-in owner is.
        var typed = AssetDetails(name: "ThinkPad X1", serial: "sn-1", owner: "Room 114")
        #expect(
            LabelOptions.lines(typed, size: .large).filter { !$0.text.isEmpty } == [
                .init("name", "ThinkPad X1"), .init("serial", "S: SN-1"), .init("owner", "Room 114"),
            ])
        typed.fundingSource = "District Funds"
        #expect(!LabelOptions.lines(typed, size: .large).contains { $0.className == "funding" && !$0.text.isEmpty })
        for source in ["District Funds", " district funds ", "", "  "] {
            #expect(!LabelOptions.printsFunding(source), "\(source)")
        }
        #expect(LabelOptions.printsFunding("E-Rate"))
    }

    @Test func smallLabelsKeepOnlyTheNameLine() {
        #expect(LabelOptions.lines(Self.laptop, size: .small) == [.init("internal-name", "N: Brave Otter")])
        let typed = AssetDetails(name: "USB-C charger", serial: "x", owner: "Room 1")
        #expect(LabelOptions.lines(typed, size: .small) == [.init("name", "USB-C charger")])
    }

    @Test func contentCarriesTheFooter() {
        let content = Self.options.content(tag: "W12-00042", details: Self.laptop, size: .small, qrPayload: "q")
        #expect(content.footer == "Western CUSD #12" && content.tag == "W12-00042" && content.qrPayload == "q")
    }

    @Test func queryHelpers() {
        #expect(LabelRoutes.queryString([]) == "")
        #expect(LabelRoutes.queryString([("name", "Dell 3100"), ("size", "small")]) == "?name=Dell%203100&size=small")
        #expect(LabelRoutes.encoded("W12-0001*7/ä") == "W12-0001%2A7%2F%C3%A4")
        #expect(
            LabelRoutes.detailsQuery(["owner": "Ann", "name": "X", "serial": "", "size": "small"]).map {
                $0.0 + "=" + $0.1
            }
                == ["name=X", "owner=Ann"])
    }
}
