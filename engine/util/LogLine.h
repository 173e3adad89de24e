// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QString>
#include <QVarLengthArray>

namespace greygate {

// Builds the logfmt body of one structured event: `msg="..." key=value key="a b"`. Values
// are quoted and escaped only when needed, so hostile bytes from the network (quotes,
// newlines, NULs) can never forge a field or a line. Use with the Qt logging macros:
//   qCWarning(lcPolicyd).noquote() << LogLine("protocol error").add("peer", peer).text();
// or, for a line written per decision, with Logger::write (no QString on the way):
//   Logger::write(QtInfoMsg, lcPolicyd(), LogLine("greylisting passed").add(...));
// The body is kept as UTF-8, the bytes the log receives, on the stack while it is short.
class LogLine
{
public:
    // Room for a typical line without an allocation.
    using Buffer = QVarLengthArray<char, 256>;

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
        return add(key, QByteArrayView(value.data(), value.size()));
    }

    QString text() const { return QString::fromUtf8(m_bytes.constData(), m_bytes.size()); }
    // The same body as UTF-8 (what the log file gets), valid while this line is.
    QByteArrayView bytes() const { return QByteArrayView(m_bytes.constData(), m_bytes.size()); }

    // The decimal digits of `value`, written at the end of `buffer` (no allocation, no format
    // parsing): for numbers on a hot path, such as a passed message's X-Greylist header.
    static QByteArrayView decimal(qint64 value, char (&buffer)[24]);

    // `value` as a logfmt value: bare when it is a plain token, else quoted and escaped.
    static QString quoted(QStringView value);
    // The same for bytes read as Latin-1, appended to `out` as UTF-8.
    static void appendQuoted(Buffer &out, QByteArrayView latin1);

private:
    Buffer m_bytes;
};

} // namespace greygate
