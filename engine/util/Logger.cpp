// SPDX-License-Identifier: GPL-3.0-or-later
#include "Logger.h"

#include "LogLine.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <QMutex>
#include <atomic>
#include <cstdio>

namespace greygate {

namespace {

std::atomic<LogLevel> g_threshold{LogLevel::Info};
QMutex g_writeMutex; // one line at a time, even from several threads

LogLevel levelOf(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return LogLevel::Debug;
    case QtInfoMsg:
        return LogLevel::Info;
    case QtWarningMsg:
        return LogLevel::Warning;
    case QtCriticalMsg:
    case QtFatalMsg:
        return LogLevel::Error;
    }
    return LogLevel::Error;
}

void handler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (type != QtFatalMsg && levelOf(type) < g_threshold.load(std::memory_order_relaxed))
        return;
    const QByteArray line =
        Logger::formatLine(QDateTime::currentMSecsSinceEpoch(), type, context.category, message);
    {
        QMutexLocker lock(&g_writeMutex);
        std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
        std::fflush(stderr);
    }
}

} // namespace

void Logger::install(LogLevel threshold)
{
    setThreshold(threshold);
    qInstallMessageHandler(handler);
}

void Logger::setThreshold(LogLevel threshold)
{
    g_threshold.store(threshold, std::memory_order_relaxed);
    // Greygate's categories default to info (debug lines cost nothing when off, because the
    // category check comes before the message is built); --log-level=debug turns them on.
    QLoggingCategory::setFilterRules(threshold == LogLevel::Debug
                                         ? QStringLiteral("greygate.*.debug=true")
                                         : QStringLiteral("greygate.*.debug=false"));
}

LogLevel Logger::threshold()
{
    return g_threshold.load(std::memory_order_relaxed);
}

std::optional<LogLevel> Logger::parseLevel(QStringView name)
{
    if (name.compare(u"debug", Qt::CaseInsensitive) == 0)
        return LogLevel::Debug;
    if (name.compare(u"info", Qt::CaseInsensitive) == 0)
        return LogLevel::Info;
    if (name.compare(u"warning", Qt::CaseInsensitive) == 0 ||
        name.compare(u"warn", Qt::CaseInsensitive) == 0)
        return LogLevel::Warning;
    if (name.compare(u"error", Qt::CaseInsensitive) == 0)
        return LogLevel::Error;
    return std::nullopt;
}

QLatin1StringView Logger::levelName(LogLevel level)
{
    switch (level) {
    case LogLevel::Debug:
        return QLatin1StringView("debug");
    case LogLevel::Info:
        return QLatin1StringView("info");
    case LogLevel::Warning:
        return QLatin1StringView("warning");
    case LogLevel::Error:
        return QLatin1StringView("error");
    }
    return QLatin1StringView("error");
}

QByteArray Logger::formatLine(qint64 msecsSinceEpoch, QtMsgType type, const char *category,
                              const QString &message)
{
    const QString ts =
        QDateTime::fromMSecsSinceEpoch(msecsSinceEpoch, Qt::UTC).toString(Qt::ISODateWithMs);
    const QLatin1StringView level =
        type == QtFatalMsg ? QLatin1StringView("fatal") : levelName(levelOf(type));
    const QLatin1StringView cat((category && *category) ? category : "default");

    QString line;
    line.reserve(64 + message.size());
    line += u"ts=" + ts + u" level=" + level + u" cat=" + LogLine::quoted(QString(cat));
    if (message.startsWith(u"msg="))
        line += u' ' + message;
    else
        line += u" msg=" + LogLine::quoted(message);
    // A structured body was escaped by LogLine; a free-form one was quoted above. Either
    // way no newline can survive inside the event, so one event is one line.
    line.replace(u'\n', u' ');
    line += u'\n';
    return line.toUtf8();
}

} // namespace greygate
