// SPDX-License-Identifier: GPL-3.0-or-later
#include "Logger.h"

#include "LogBuffer.h"
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
// profiles. Warnings and errors, and a buffer past kMaxBuffered, are written at once by the
// thread that logs (after what is buffered, so the order holds); exit flushes what is left.
// Lines are appended under m_mutex only: writing swaps the buffer for an empty one and
// writes outside it, so a thread that logs never waits for the terminal or the disk unless
// it writes itself. m_writeMutex lets one writer at a time take and write what is buffered,
// which keeps the lines in the order they were appended.
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
        flush();
    }

    // One line given in parts (a prefix, a body, its newline), copied once, into the buffer.
    void add(std::initializer_list<QByteArrayView> parts, bool urgent)
    {
        bool writeNow = urgent;
        bool wake = false;
        {
            std::lock_guard lock(m_mutex);
            m_buffer.append(parts);
            if (m_buffer.size() >= kMaxBuffered) {
                writeNow = true;
            } else if (!m_pending) {
                m_pending = true;
                wake = true;
            } else if (m_buffer.size() >= kWakeAt && !m_full) {
                // A burst: the flusher writes now rather than when the buffer is full,
                // so that the threads that log do not.
                m_full = true;
                wake = true;
            }
        }
        if (writeNow)
            flush();
        else if (wake)
            m_wake.notify_one();
    }

    void flush()
    {
        std::lock_guard writing(m_writeMutex);
        {
            std::lock_guard lock(m_mutex);
            m_pending = false;
            m_full = false;
            if (m_buffer.isEmpty())
                return;
            std::swap(m_buffer, m_writing);
        }
        std::fwrite(m_writing.constData(), 1, size_t(m_writing.size()), stderr);
        std::fflush(stderr);
        m_writing.clear(); // capacity kept: the buffer swapped in next appends without allocating
    }

private:
    static constexpr qsizetype kWakeAt = 256 * 1024;
    static constexpr qsizetype kMaxBuffered = 1024 * 1024;

    void run()
    {
        std::unique_lock lock(m_mutex);
        while (!m_stop) {
            m_wake.wait(lock, [this] { return m_stop || m_pending; });
            if (m_stop)
                break;
            m_wake.wait_for(lock, std::chrono::milliseconds(100),
                            [this] { return m_stop || m_full; });
            lock.unlock();
            flush();
            lock.lock();
        }
    }

    std::mutex m_writeMutex; // before m_mutex when both are held
    LogBuffer m_writing;     // under m_writeMutex
    std::mutex m_mutex;
    std::condition_variable m_wake;
    LogBuffer m_buffer;
    bool m_pending = false; // m_buffer has lines the flusher was told of
    bool m_full = false;    // past kWakeAt: the flusher was told to write now
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

constexpr qint64 kNoSecond = std::numeric_limits<qint64>::min();

// "2026-11-26T12:00:00" for the second starting at `second` * 1000 ms: formatting a QDateTime
// costs more than the rest of a line (bench/README.md, "Per-message cost"), and the lines of
// a burst share their second. Same text as QDateTime's Qt::ISODate in UTC, 'Z' left off.
struct SecondText
{
    qint64 second = kNoSecond;
    qsizetype size = 0;
    char text[40] = {};
};

QByteArrayView isoUtcSecond(qint64 second)
{
    thread_local constinit SecondText cache;
    if (second != cache.second) {
        QByteArray iso =
            QDateTime::fromMSecsSinceEpoch(second * 1000, Qt::UTC).toString(Qt::ISODate).toLatin1();
        if (iso.endsWith('Z'))
            iso.chop(1);
        const qsizetype size = std::min(iso.size(), qsizetype(sizeof cache.text));
        std::memcpy(cache.text, iso.constData(), size_t(size));
        cache.size = size;
        cache.second = second;
    }
    return QByteArrayView(cache.text, cache.size);
}

// Writes the three digits of `millis` (0-999) at `p`.
void writeMillis(char *p, int millis)
{
    p[0] = char('0' + millis / 100);
    p[1] = char('0' + millis / 10 % 10);
    p[2] = char('0' + millis % 10);
}

// "ts=2026-11-26T12:00:00.123Z level=info cat=greygate.policyd ", built into `out`.
void appendPrefix(LogBuffer &out, qint64 second, int millis, QtMsgType type, const char *category)
{
    const QByteArrayView iso = isoUtcSecond(second);
    const QLatin1StringView level =
        type == QtFatalMsg ? QLatin1StringView("fatal") : Logger::levelName(levelOf(type));
    char millisText[3];
    writeMillis(millisText, millis);
    out.append({"ts=", iso, ".", QByteArrayView(millisText, 3),
                "Z level=", QByteArrayView(level.data(), level.size()), " cat="});
    LogLine::appendQuoted(out, QByteArrayView(category));
    out.append(' ');
}

// The last prefix a thread wrote, kept while its second, level and category stay (those of a
// burst do): a line then costs a compare and, in a new millisecond, three digits.
constexpr qsizetype kCachedCategory = 96;
struct PrefixText
{
    qint64 second = kNoSecond;
    int millis = 0;
    QtMsgType type = QtDebugMsg;
    qsizetype millisAt = 0; // where the milliseconds' digits are in text
    qsizetype size = 0;
    char category[kCachedCategory + 1] = {};
    char text[2 * kCachedCategory + 64] = {};
};

// The line's text before its body. A view of the thread's cache, or of `scratch` for a
// category too long to cache; valid until the next call on this thread.
QByteArrayView linePrefix(LogBuffer &scratch, qint64 msecsSinceEpoch, QtMsgType type,
                          const char *category)
{
    thread_local constinit PrefixText cache;
    const char *const name = (category && *category) ? category : "default";
    const qint64 second =
        msecsSinceEpoch >= 0 ? msecsSinceEpoch / 1000 : -((-msecsSinceEpoch + 999) / 1000);
    const int millis = int(msecsSinceEpoch - second * 1000);
    if (second == cache.second && type == cache.type && std::strcmp(name, cache.category) == 0) {
        if (millis != cache.millis) {
            writeMillis(cache.text + cache.millisAt, millis);
            cache.millis = millis;
        }
        return QByteArrayView(cache.text, cache.size);
    }
    scratch.clear();
    appendPrefix(scratch, second, millis, type, name);
    const size_t nameSize = std::strlen(name);
    if (nameSize > size_t(kCachedCategory) || scratch.size() > qsizetype(sizeof cache.text)) {
        cache.second = kNoSecond;
        return scratch.view();
    }
    std::memcpy(cache.category, name, nameSize + 1);
    std::memcpy(cache.text, scratch.constData(), size_t(scratch.size()));
    cache.size = scratch.size();
    cache.millisAt = 3 + isoUtcSecond(second).size() + 1; // after "ts=" and the second's "."
    cache.second = second;
    cache.millis = millis;
    cache.type = type;
    return QByteArrayView(cache.text, cache.size);
}

// The whole line, its newline included. A structured body was escaped by LogLine; a
// free-form one was quoted. Either way no newline may survive inside the event, so one
// event is one line.
void formatInto(LogBuffer &out, qint64 msecsSinceEpoch, QtMsgType type, const char *category,
                QByteArrayView body)
{
    LogBuffer scratch;
    out.append({linePrefix(scratch, msecsSinceEpoch, type, category)});
    const qsizetype at = out.size();
    out.append({body, "\n"});
    std::replace(out.data() + at, out.data() + out.size() - 1, '\n', ' ');
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
    LogBuffer line;
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
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        LogBuffer scratch;
        const QByteArrayView body = line.bytes();
        if (!body.isEmpty() &&
            std::memchr(body.data(), '\n',
                        size_t(body.size()))) { // never from LogLine, which escapes every newline
            formatInto(scratch, now, type, category.categoryName(), body);
            sink().add({scratch.view()}, false);
            return;
        }
        // Prefix, body and newline go into the log's buffer with one copy each.
        sink().add({linePrefix(scratch, now, type, category.categoryName()), body, "\n"}, false);
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
