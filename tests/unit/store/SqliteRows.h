// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QFile>
#include <QString>
#include <sqlite3.h>

namespace greygate::test {

// Rejection rows in DBDIR/greygate.db as another connection sees them: what the applier has
// written, without a flush() (the store's own reads would wait for it). -1 on error.
inline qint64 rejectionRowsInSqlite(const QString &dbdir)
{
    sqlite3 *db = nullptr;
    const QByteArray path = QFile::encodeName(dbdir + QStringLiteral("/greygate.db"));
    qint64 rows = -1;
    if (sqlite3_open_v2(path.constData(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt *stmt = nullptr;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM rejections", -1, &stmt, nullptr) ==
                SQLITE_OK &&
            sqlite3_step(stmt) == SQLITE_ROW)
            rows = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return rows;
}

} // namespace greygate::test
