// SPDX-License-Identifier: GPL-3.0-or-later
#include "Logger.h"

#include "ByteAppend.h"
#include "LogLine.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <thread>

namespace greygate {

namespace {

std::atomic<LogLevel> g_threshold{LogLevel::Info};
std::atomic<bool> g_installed{false}; // install() ran: write() may bypass Qt's handler

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

    // One line given in parts (a prefix, a body, its newline), so none is copied into a
    // temporary first.
    void add(std::initializer_list<QByteArrayView> parts, bool urgent)
    {
        std::unique_lock lock(m_mutex);
        appendBytes(m_buffer, parts);
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
        m_buffer.resize(0); // capacity kept: the next burst appends without reallocating
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
    sink().add({line}, levelOf(type) >= LogLevel::Warning || type == QtFatalMsg);
}

// Formatting a QDateTime costs more than the rest of the line (bench/README.md, "Per-message
// cost"); the lines of a burst share their second, so only the milliseconds are formatted
// per line. Same text as QDateTime's Qt::ISODateWithMs in UTC.
void appendIsoUtcWithMs(LogLine::Buffer &out, qint64 msecsSinceEpoch)
{
    thread_local qint64 cachedSecond = std::numeric_limits<qint64>::min();
    thread_local QByteArray cachedPrefix; // "2026-11-26T12:00:00"
    const qint64 second =
        msecsSinceEpoch >= 0 ? msecsSinceEpoch / 1000 : -((-msecsSinceEpoch + 999) / 1000);
    if (second != cachedSecond) {
        QString iso = QDateTime::fromMSecsSinceEpoch(second * 1000, Qt::UTC).toString(Qt::ISODate);
        if (iso.endsWith(u'Z'))
            iso.chop(1);
        cachedPrefix = iso.toLatin1();
        cachedSecond = second;
    }
    const int millis = int(msecsSinceEpoch - second * 1000);
    const char tail[] = {'.', char('0' + millis / 100), char('0' + millis / 10 % 10),
                         char('0' + millis % 10), 'Z'};
    out.append(cachedPrefix.constData(), cachedPrefix.size());
    out.append(tail, sizeof tail);
}

// " level=info cat=greygate.policyd " for a level and category, kept while the next line
// has the same ones (the lines of a burst mostly do).
void appendLevelAndCategory(LogLine::Buffer &out, QtMsgType type, const char *category)
{
    thread_local QtMsgType cachedType = QtFatalMsg;
    thread_local QByteArray cachedCategory;
    thread_local LogLine::Buffer cached;
    if (cached.isEmpty() || type != cachedType || cachedCategory != category) {
        const QLatin1StringView level =
            type == QtFatalMsg ? QLatin1StringView("fatal") : Logger::levelName(levelOf(type));
        cached.clear();
        cached.append(" level=", 7);
        cached.append(level.data(), level.size());
        cached.append(" cat=", 5);
        LogLine::appendQuoted(cached,
                              QByteArrayView((category && *category) ? category : "default"));
        cached.append(' ');
        cachedType = type;
        cachedCategory = category;
    }
    out.append(cached.constData(), cached.size());
}

// The whole line, its newline included. A structured body was escaped by LogLine; a
// free-form one was quoted. Either way no newline may survive inside the event, so one
// event is one line.
void formatInto(LogLine::Buffer &out, qint64 msecsSinceEpoch, QtMsgType type, const char *category,
                QByteArrayView body)
{
    out.append("ts=", 3);
    appendIsoUtcWithMs(out, msecsSinceEpoch);
    appendLevelAndCategory(out, type, category);
    const qsizetype at = out.size();
    out.append(body.data(), body.size());
    if (body.contains('\n'))
        std::replace(out.begin() + at, out.end(), '\n', ' ');
    out.append('\n');
}

} // namespace

void Logger::install(LogLevel threshold)
{
    setThreshold(threshold);
    sink(); // started now, so it is destroyed (and flushed) after everything that logs
    qInstallMessageHandler(handler);
    g_installed.store(true, std::memory_order_relaxed);
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
    // A message that starts with msg= was built by LogLine (its text(), already logfmt).
    QByteArray body;
    if (message.startsWith(u"msg=")) {
        body = message.toUtf8();
    } else {
        body = QByteArrayLiteral("msg=");
        body.append(LogLine::quoted(message).toUtf8());
    }
    return formatStructuredLine(msecsSinceEpoch, type, category, body);
}

QByteArray Logger::formatStructuredLine(qint64 msecsSinceEpoch, QtMsgType type,
                                        const char *category, QByteArrayView body)
{
    LogLine::Buffer line;
    formatInto(line, msecsSinceEpoch, type, category, body);
    return QByteArray(line.constData(), line.size());
}

void Logger::write(QtMsgType type, const QLoggingCategory &category, const LogLine &line)
{
    if (!category.isEnabled(type))
        return;
    if (g_installed.load(std::memory_order_relaxed) && (type == QtDebugMsg || type == QtInfoMsg)) {
        if (levelOf(type) < g_threshold.load(std::memory_order_relaxed))
            return;
        LogLine::Buffer out; // on the stack for a typical line
        formatInto(out, QDateTime::currentMSecsSinceEpoch(), type, category.categoryName(),
                   line.bytes());
        sink().add({QByteArrayView(out.constData(), out.size())}, false);
        return;
    }
    const QMessageLogger logger(nullptr, 0, nullptr, category.categoryName());
    switch (type) {
    case QtDebugMsg:
        logger.debug(category).noquote() << line.text();
        break;
    case QtInfoMsg:
        logger.info(category).noquote() << line.text();
        break;
    case QtWarningMsg:
        logger.warning(category).noquote() << line.text();
        break;
    case QtCriticalMsg:
    case QtFatalMsg: // not aborted for: a log line never ends the process
        logger.critical(category).noquote() << line.text();
        break;
    }
}

} // namespace greygate
