// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QString>

namespace greygate {

// Builds the logfmt body of one structured event: `msg="..." key=value key="a b"`. Values
// are quoted and escaped only when needed, so hostile bytes from the network (quotes,
// newlines, NULs) can never forge a field or a line. Use with the Qt logging macros:
//   qCWarning(lcPolicyd).noquote() << LogLine("protocol error").add("peer", peer).text();
class LogLine
{
public:
    explicit LogLine(QStringView message);
    explicit LogLine(const char *message);

    LogLine &add(const char *key, QStringView value);
    LogLine &add(const char *key, QByteArrayView value); // raw bytes, shown as Latin-1 escapes
    LogLine &add(const char *key, qint64 value);
    LogLine &add(const char *key, const char *value) { return add(key, QByteArrayView(value)); }
    LogLine &add(const char *key, const QString &value) { return add(key, QStringView(value)); }
    LogLine &add(const char *key, const QByteArray &value)
    {
        return add(key, QByteArrayView(value));
    }
    LogLine &add(const char *key, int value) { return add(key, qint64(value)); }
    LogLine &add(const char *key, QLatin1StringView value)
    {
        return add(key, QStringView(QString(value)));
    }

    const QString &text() const { return m_text; }

    // `value` as a logfmt value: bare when it is a plain token, else quoted and escaped.
    static QString quoted(QStringView value);

private:
    QString m_text;
};

} // namespace greygate
