/// The database schema, as numbered migrations. Append new ones; never edit one that shipped.
struct Migration: Sendable {
    let version: Int
    let name: String
    let sql: String
}

enum Migrations {
    static let all: [Migration] = [
        Migration(
            version: 1, name: "asset tags",
            sql: """
                CREATE TABLE tag_counter (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    next_number INTEGER NOT NULL CHECK (next_number >= 1)
                );
                INSERT INTO tag_counter (id, next_number) VALUES (1, 1);
                CREATE TABLE asset_tags (
                    number INTEGER PRIMARY KEY,
                    tag TEXT NOT NULL UNIQUE,
                    issued_at TEXT NOT NULL,
                    note TEXT NOT NULL DEFAULT ''
                );
                """),
        Migration(
            version: 2, name: "device check-ins",
            sql: """
                CREATE TABLE checkins (
                    id INTEGER PRIMARY KEY,
                    tag TEXT NOT NULL,
                    student TEXT NOT NULL,
                    condition TEXT NOT NULL CHECK (condition IN ('good', 'fair', 'damaged')),
                    notes TEXT NOT NULL DEFAULT '',
                    checked_in_on TEXT NOT NULL,
                    checked_in_at TEXT NOT NULL,
                    UNIQUE (tag, checked_in_on)
                );
                CREATE INDEX checkins_by_day ON checkins (checked_in_on);
                """),
        Migration(
            version: 3, name: "request tracker links",
            sql: """
                ALTER TABLE checkins ADD COLUMN rt_asset_id INTEGER;
                ALTER TABLE checkins ADD COLUMN rt_ticket_id INTEGER;
                ALTER TABLE checkins ADD COLUMN rt_status TEXT NOT NULL DEFAULT 'not sent';
                """),
    ]

    static var latest: Int { all.last!.version }
}
