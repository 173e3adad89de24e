// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

namespace greygate {

// A daemon configuration file: `key = value` lines, `#` comments (whole lines, or after
// whitespace at the end of a line), blank lines ignored. The file is bounded in size and every
// error names its line, so an admin is told exactly what to fix. Keys are checked against the
// caller's list: a misspelt key is an error, never silently ignored.
class ConfigFile
{
public:
    struct Entry
    {
        QString key;
        QString value;
        int line = 0;
    };

    static constexpr qint64 kMaxBytes = 1024 * 1024;

    // Parses text; allowedKeys empty means any key. Returns false with *error set.
    bool parse(QByteArrayView text, const QStringList &allowedKeys, QString *error);
    bool load(const QString &path, const QStringList &allowedKeys, QString *error);

    const QList<Entry> &entries() const { return m_entries; }
    QString path() const { return m_path; }

private:
    QList<Entry> m_entries;
    QString m_path;
};

} // namespace greygate
