// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QString>

struct sqlite3;
struct sqlite3_stmt;

namespace greygate {

// One prepared statement, finalized with its owner. Bytes are bound and read as BLOBs so
// that every byte sequence round-trips, NULs and invalid UTF-8 included.
class SqliteStatement
{
public:
    SqliteStatement() = default;
    ~SqliteStatement();
    SqliteStatement(const SqliteStatement &) = delete;
    SqliteStatement &operator=(const SqliteStatement &) = delete;

    bool prepare(sqlite3 *db, const char *sql, QString *error);
    void finalize();
    bool isPrepared() const { return m_stmt != nullptr; }

    void bind(int index, const QByteArray &value); // index from 1, as in SQLite
    void bind(int index, qint64 value);
    int step(); // SQLITE_ROW, SQLITE_DONE or an error code
    // step() of a statement that returns no rows, then reset; false with the message.
    bool run(QString *error);
    void reset();

    QByteArray bytes(int column) const; // column from 0, as in SQLite
    qint64 integer(int column) const;

private:
    sqlite3 *m_db = nullptr;
    sqlite3_stmt *m_stmt = nullptr;
};

} // namespace greygate
