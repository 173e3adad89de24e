// SPDX-License-Identifier: GPL-3.0-or-later
#include "Logger.h"

#include "LogLine.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <limits>
#include <mutex>
#include <thread>

namespace greygate {

namespace {

std::atomic<LogLevel> g_threshold{LogLevel::Info};

// Info and debug lines are buffered and written by a flusher thread at most 100 ms later:
// a write() and fflush per line cost the policy server a syscall per passed message in
// profiles. Warnings and errors, and a full buffer, are written at once (after what is
// buffered, so the order holds); exit flushes what is left.
class Sink
{
public:
    Sink()
        : m_flusher([this] { run(); })
    {}
    ~Sink()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_wake.notify_one();
        m_flusher.join();
        std::lock_guard lock(m_mutex);
        writeLocked();
    }

    void add(const QByteArray &line, bool urgent)
    {
        std::unique_lock lock(m_mutex);
        m_buffer.append(line);
        if (urgent || m_buffer.size() >= kMaxBuffered) {
            writeLocked();
            return;
        }
        if (!m_pending) {
            m_pending = true;
            lock.unlock();
            m_wake.notify_one();
        }
    }

    void flush()
    {
        std::lock_guard lock(m_mutex);
        writeLocked();
    }

private:
    static constexpr qsizetype kMaxBuffered = 256 * 1024;

    void run()
    {
        std::unique_lock lock(m_mutex);
        while (!m_stop) {
            m_wake.wait(lock, [this] { return m_stop || m_pending; });
            if (m_stop)
                break;
            m_wake.wait_for(lock, std::chrono::milliseconds(100), [this] { return m_stop; });
            writeLocked();
        }
    }

    void writeLocked()
    {
        m_pending = false;
        if (m_buffer.isEmpty())
            return;
        std::fwrite(m_buffer.constData(), 1, size_t(m_buffer.size()), stderr);
        std::fflush(stderr);
        m_buffer.clear();
    }

    std::mutex m_mutex;
    std::condition_variable m_wake;
    QByteArray m_buffer;
    bool m_pending = false;
    bool m_stop = false;
    std::thread m_flusher;
};

Sink &sink()
{
    static Sink instance;
    return instance;
}

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
    sink().add(line, levelOf(type) >= LogLevel::Warning || type == QtFatalMsg);
}

// Formatting a QDateTime costs more than the rest of the line (bench/README.md, "Per-message
// cost"); the lines of a burst share their second, so only the milliseconds are formatted
// per line. Same text as QDateTime's Qt::ISODateWithMs in UTC.
QString isoUtcWithMs(qint64 msecsSinceEpoch)
{
    thread_local qint64 cachedSecond = std::numeric_limits<qint64>::min();
    thread_local QString cachedPrefix; // "2026-11-26T12:00:00"
    const qint64 second =
        msecsSinceEpoch >= 0 ? msecsSinceEpoch / 1000 : -((-msecsSinceEpoch + 999) / 1000);
    if (second != cachedSecond) {
        cachedPrefix = QDateTime::fromMSecsSinceEpoch(second * 1000, Qt::UTC).toString(Qt::ISODate);
        if (cachedPrefix.endsWith(u'Z'))
            cachedPrefix.chop(1);
        cachedSecond = second;
    }
    const int millis = int(msecsSinceEpoch - second * 1000);
    return cachedPrefix + u'.' + QString::number(millis).rightJustified(3, u'0') + u'Z';
}

} // namespace

void Logger::install(LogLevel threshold)
{
    setThreshold(threshold);
    sink(); // started now, so it is destroyed (and flushed) after everything that logs
    qInstallMessageHandler(handler);
}

void Logger::flush()
{
    sink().flush();
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
    const QString ts = isoUtcWithMs(msecsSinceEpoch);
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
