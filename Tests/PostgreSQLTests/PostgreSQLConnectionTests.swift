import PostgreSQL
import Testing

extension PostgreSQLTests {
    /// The libpq wrapper against a real cluster: queries, parameters, results, prepared statements.
    @Suite struct ConnectionTests {
        @Test func connectsAndQueries() throws {
            let connection = try TestCluster.current.connect()
            #expect(connection.isOpen)
            let result = try connection.query("SELECT 1 AS one, 'two' AS two, current_user, current_database()")
            #expect(result.rowCount == 1)
            #expect(result.columnCount == 4)
            #expect(result.int(0, 0) == 1)
            #expect(result.text(0, 1) == "two")
            #expect(result.text(0, 2) == "rtutils")
            #expect(result.text(0, 3) == "rtutils")
            let empty = try connection.query("SELECT 1 WHERE false")
            #expect(empty.rowCount == 0)
            #expect(empty.columnCount == 1)
        }

        @Test func textParametersRoundTrip() throws {
            let connection = try TestCluster.current.connect()
            let values: [String?] = [
                "it's \"quoted\"; DROP TABLE x; --", nil, "Grüße, 東京 🐘", "", "back\\slash\nnewline",
            ]
            let result = try connection.query(
                "SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $2 IS NULL", values)
            #expect(result.text(0, 0) == values[0])
            #expect(result.isNull(0, 1))
            #expect(result.text(0, 1) == nil)
            #expect(result.text(0, 2) == values[2])
            #expect(result.text(0, 3) == "")
            #expect(!result.isNull(0, 3))
            #expect(result.text(0, 4) == values[4])
            #expect(result.text(0, 5) == "t")
            let length = try connection.query("SELECT length($1), octet_length($1)", [values[2]])
            #expect(length.int(0, 0) == Int64(values[2]!.unicodeScalars.count))
            #expect(length.int(0, 1) == Int64(values[2]!.utf8.count))
        }

        @Test func parsesIntegers() throws {
            let connection = try TestCluster.current.connect()
            let result = try connection.query(
                """
                SELECT 0, -42, 9223372036854775807, -9223372036854775808, NULL::int, 1.5, true, '', '+7', '-', '12a',
                       '9223372036854775808', '-9223372036854775809', $1::int4
                """, ["2147483647"])
            let expected: [Int64?] = [
                0, -42, .max, .min, nil, nil, nil, nil, 7, nil, nil, nil, nil, 2_147_483_647,
            ]
            for (column, value) in expected.enumerated() {
                #expect(result.int(0, column) == value, "column \(column): \(result.text(0, column) ?? "NULL")")
            }
        }

        @Test func countsAffectedRows() throws {
            let connection = try TestCluster.current.connect()
            #expect(try connection.query("CREATE TEMP TABLE items (id int PRIMARY KEY, name text)").affectedRows == 0)
            let inserted = try connection.query(
                "INSERT INTO items SELECT n, 'item ' || n FROM generate_series(1, $1::int) AS n", ["5"])
            #expect(inserted.affectedRows == 5)
            #expect(inserted.rowCount == 0)
            #expect(try connection.query("UPDATE items SET name = $1 WHERE id > $2", ["x", "2"]).affectedRows == 3)
            #expect(try connection.query("DELETE FROM items WHERE id = 99").affectedRows == 0)
            let selected = try connection.query("SELECT id, name FROM items ORDER BY id")
            #expect(selected.affectedRows == 5)
            #expect(selected.rowCount == 5)
            #expect(selected.text(4, 1) == "x")
            let returned = try connection.query("DELETE FROM items WHERE id <= 2 RETURNING id")
            #expect(returned.affectedRows == 2)
            #expect(returned.rowCount == 2)
        }

        @Test func preparedStatementsAreMadeOncePerSQL() throws {
            let connection = try TestCluster.current.connect()
            let count = "SELECT count(*) FROM pg_prepared_statements"
            let twice = "SELECT $1::int + 1"
            #expect(try connection.preparedQuery(twice, ["1"]).int(0, 0) == 2)
            #expect(try connection.preparedQuery(twice, ["41"]).int(0, 0) == 42)
            #expect(try connection.query(count).int(0, 0) == 1)
            #expect(try connection.preparedQuery("SELECT $1::text || $2::text", ["a", nil]).isNull(0, 0))
            #expect(try connection.preparedQuery(count).int(0, 0) == 3)  // the count query is prepared too
            #expect(try connection.preparedQuery(twice, ["-3"]).int(0, 0) == -2)
            #expect(try connection.query(count).int(0, 0) == 3)
        }

        @Test func preparedStatementsSurviveDiscardAll() throws {
            let connection = try TestCluster.current.connect()
            #expect(try connection.preparedQuery("SELECT 7").int(0, 0) == 7)
            try connection.execute("DISCARD ALL")
            // The server forgot the statement: this call fails (26000), the next one makes it again.
            #expect(throws: PostgreSQLError.self) { try connection.preparedQuery("SELECT 7") }
            #expect(try connection.preparedQuery("SELECT 7").int(0, 0) == 7)
        }

        @Test func executesSeveralStatements() throws {
            let connection = try TestCluster.current.connect()
            try connection.execute(
                """
                CREATE TEMP TABLE migrated (id int PRIMARY KEY);
                INSERT INTO migrated VALUES (1), (2);
                -- a comment between statements
                INSERT INTO migrated VALUES (3);
                """)
            #expect(try connection.query("SELECT count(*) FROM migrated").int(0, 0) == 3)
            // One implicit transaction: the failing third statement undoes the second.
            #expect(throws: PostgreSQLError.self) {
                try connection.execute("INSERT INTO migrated VALUES (4); INSERT INTO migrated VALUES (1); SELECT 1")
            }
            #expect(try connection.query("SELECT count(*) FROM migrated").int(0, 0) == 3)
            try connection.execute("BEGIN; INSERT INTO migrated VALUES (5); COMMIT")
            #expect(try connection.query("SELECT max(id) FROM migrated").int(0, 0) == 5)
        }

        @Test func transactionsSpanCalls() throws {
            let connection = try TestCluster.current.connect()
            try connection.execute("CREATE TEMP TABLE counter (value int); INSERT INTO counter VALUES (0)")
            try connection.execute("BEGIN")
            _ = try connection.preparedQuery("UPDATE counter SET value = value + 1")
            try connection.execute("ROLLBACK")
            #expect(try connection.query("SELECT value FROM counter").int(0, 0) == 0)
        }
    }
}
