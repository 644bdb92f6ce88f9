import Testing

@testable import RequestTrackerUtilsApp

@Suite struct DirectoryPolicyTests {
    let activeDirectory = DirectoryPolicy(
        upnSuffix: "@district.org", userDNTemplate: "", techGroup: "CN=IT Staff,OU=Groups,DC=district,DC=org",
        teacherGroups: ["Teachers", "cn=Substitutes,ou=groups,dc=district,dc=org"])
    let openLDAP = DirectoryPolicy(
        upnSuffix: "", userDNTemplate: "uid=%s,ou=people,dc=example,dc=org", techGroup: "it-staff",
        teacherGroups: ["teachers"])

    @Test func bindsAsTheUPNOrTheTemplateWithTheNameEscaped() {
        #expect(activeDirectory.bindIdentity("jdoe") == "jdoe@district.org")
        #expect(openLDAP.bindIdentity("tech1") == "uid=tech1,ou=people,dc=example,dc=org")
        #expect(openLDAP.bindIdentity("a,ou=admins") == "uid=a\\,ou\\=admins,ou=people,dc=example,dc=org")
        #expect(openLDAP.searchFilter("x*)(uid=*") == "(uid=x\\2a\\29\\28uid=\\2a)")
        #expect(
            activeDirectory.searchFilter("j*") == "(|(sAMAccountName=j\\2a)(userPrincipalName=j\\2a@district.org))")
    }

    @Test func groupsGiveTheRoleTechFirstByDNOrCN() {
        #expect(activeDirectory.role(memberOf: ["cn=it staff, ou=groups, dc=district, dc=org"]) == .tech)
        #expect(activeDirectory.role(memberOf: ["CN=Teachers,OU=Groups,DC=district,DC=org"]) == .teacher)
        #expect(activeDirectory.role(memberOf: ["CN=Substitutes,OU=Groups,DC=district,DC=org"]) == .teacher)
        #expect(
            activeDirectory.role(memberOf: [
                "CN=Teachers,OU=Groups,DC=district,DC=org", "CN=IT Staff,OU=Groups,DC=district,DC=org",
            ]) == .tech)
        #expect(activeDirectory.role(memberOf: ["CN=Students,OU=Groups,DC=district,DC=org"]) == nil)
        #expect(activeDirectory.role(memberOf: ["CN=IT Staff Alumni,OU=Groups,DC=district,DC=org"]) == nil)
        #expect(openLDAP.role(memberOf: ["cn=it-staff,ou=groups,dc=example,dc=org"]) == .tech)
        #expect(openLDAP.role(memberOf: []) == nil)
    }
}
