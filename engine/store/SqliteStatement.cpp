// SPDX-License-Identifier: GPL-3.0-or-later
#include "SqliteStatement.h"

#include <sqlite3.h>

namespace greygate {

SqliteStatement::~SqliteStatement()
{
    finalize();
}

bool SqliteStatement::prepare(sqlite3 *db, const char *sql, QString *error)
{
    finalize();
    m_db = db;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &m_stmt, nullptr) == SQLITE_OK)
        return true;
    *error = QStringLiteral("cannot prepare \"%1\": %2")
                 .arg(QString::fromUtf8(sql), QString::fromUtf8(sqlite3_errmsg(db)));
    m_stmt = nullptr;
    return false;
}

void SqliteStatement::finalize()
{
    if (m_stmt)
        sqlite3_finalize(m_stmt);
    m_stmt = nullptr;
}

void SqliteStatement::bind(int index, const QByteArray &value)
{
    // A non-null pointer even for an empty value: a null one would bind SQL NULL, and the
    // null sender <> is an empty, not a missing, value. SQLITE_STATIC: the value outlives
    // the step() that uses it, so SQLite need not copy it.
    static const char empty = 0;
    const char *data = value.isEmpty() ? &empty : value.constData();
    sqlite3_bind_blob64(m_stmt, index, data, sqlite3_uint64(value.size()), SQLITE_STATIC);
}

void SqliteStatement::bind(int index, qint64 value)
{
    sqlite3_bind_int64(m_stmt, index, value);
}

int SqliteStatement::step()
{
    return sqlite3_step(m_stmt);
}

bool SqliteStatement::run(QString *error)
{
    const int rc = sqlite3_step(m_stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        *error = QString::fromUtf8(sqlite3_errmsg(m_db));
    reset();
    return rc == SQLITE_DONE || rc == SQLITE_ROW;
}

void SqliteStatement::reset()
{
    sqlite3_reset(m_stmt);
}

QByteArray SqliteStatement::bytes(int column) const
{
    const void *data = sqlite3_column_blob(m_stmt, column);
    const int size = sqlite3_column_bytes(m_stmt, column);
    return size > 0 ? QByteArray(static_cast<const char *>(data), size) : QByteArray();
}

qint64 SqliteStatement::integer(int column) const
{
    return sqlite3_column_int64(m_stmt, column);
}

} // namespace greygate
