// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "LogBuffer.h"

#include <QByteArray>
#include <QString>
#include <cstring>

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
    using Buffer = LogBuffer;

    explicit LogLine(QStringView message);
    explicit LogLine(const char *message) { setMessage(literalView(message)); }

    // The keys are source literals: their length is known where add() is inlined.
    LogLine &add(const char *key, QStringView value)
    {
        addText(literalView(key), value);
        return *this;
    }
    LogLine &add(const char *key, QByteArrayView value) // raw bytes, shown as Latin-1 escapes
    {
        addBytes(literalView(key), value);
        return *this;
    }
    LogLine &add(const char *key, qint64 value)
    {
        addNumber(literalView(key), value);
        return *this;
    }
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
    // A source literal's length, known where the call is inlined.
    static QByteArrayView literalView(const char *literal)
    {
        return QByteArrayView(literal, qsizetype(std::strlen(literal)));
    }
    void setMessage(QByteArrayView utf8);
    void addText(QByteArrayView key, QStringView value);
    void addBytes(QByteArrayView key, QByteArrayView value);
    void addNumber(QByteArrayView key, qint64 value);

    Buffer m_bytes;
};

} // namespace greygate
