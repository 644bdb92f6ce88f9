/// The bar and space widths of every Code 128 symbol character (ISO/IEC 15417, Table 1),
/// indexed by symbol value. Each of values 0–106 starts with a bar; 0–105 have three bars and
/// three spaces totalling 11 modules, the stop (106) four bars and three spaces, 13 modules.
enum Code128Patterns {
    /// Value of the Code C character in code set B: switch to code set C.
    static let codeC = 99
    /// Value of the Code B character in code set C: switch to code set B.
    static let codeB = 100
    /// Start character for code set B.
    static let startB = 104
    /// Start character for code set C.
    static let startC = 105
    /// Stop character (including its final termination bar).
    static let stop = 106

    /// Module widths, alternating bar, space, bar, …
    static func widths(of value: Int) -> [Int] {
        table[value].utf8.map { Int($0 - 0x30) }
    }

    private static let table: [String] = [
        "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
        "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
        "221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
        "212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
        "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
        "231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
        "314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
        "112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
        "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
        "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
        "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
    ]
}
