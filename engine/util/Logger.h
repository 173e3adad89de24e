// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QString>
#include <QtGlobal>
#include <optional>

class QLoggingCategory;

namespace greygate {

class LogLine;

enum class LogLevel : quint8
{
    Debug,
    Info,
    Warning,
    Error,
};

// Structured logging in logfmt on stderr (one line per event:
// `ts=2026-01-01T00:00:00.000Z level=info cat=greygate.policyd msg="..." key=value`),
// installed as Qt's message handler so every qDebug/qCWarning in the engine goes the same way
// and log shippers (journald, Loki, Vector) parse it without a custom grammar.
class Logger
{
public:
    // Installs the handler with the given threshold. Safe to call again to change it.
    static void install(LogLevel threshold);
    static void setThreshold(LogLevel threshold);
    static LogLevel threshold();
    // Writes buffered lines now (info and debug lines are written within 100 ms otherwise).
    static void flush();

    static std::optional<LogLevel> parseLevel(QStringView name); // debug|info|warning|error
    static QLatin1StringView levelName(LogLevel level);

    // One formatted line, newline included (what the handler writes; public for tests).
    // A message that already starts with `msg=` (built with LogLine) is taken as logfmt.
    static QByteArray formatLine(qint64 msecsSinceEpoch, QtMsgType type, const char *category,
                                 const QString &message);
    // The same line for a logfmt body already in UTF-8 (LogLine::bytes()): what write() writes.
    static QByteArray formatStructuredLine(qint64 msecsSinceEpoch, QtMsgType type,
                                           const char *category, QByteArrayView body);

    // Logs `line` in `category` as `qCInfo(category).noquote() << line.text()` would (the
    // category's filter and the threshold apply), with the same bytes in the log. Debug and
    // info lines go straight into the log's buffer once install() has run: no QString, no
    // UTF-16 round trip, no Qt message handler, which cost a passed decision a sixth of its
    // instructions. Warnings and errors, and every line before install(), take Qt's path (a
    // handler installed over this one, such as the console's, sees them).
    static void write(QtMsgType type, const QLoggingCategory &category, const LogLine &line);
};

} // namespace greygate
