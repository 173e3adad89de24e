// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QStringView>
#include <optional>

class QAbstractEventDispatcher;
class QThread;

namespace greygate {

// Which event dispatcher greygated's threads run (--event-dispatcher=epoll|qt): chosen by
// main() before QCoreApplication exists, and applied to the I/O threads the engine starts
// (SMTP proxy, policy server), so one option covers the whole daemon. The console's bundled
// engine never sets it: its threads keep Qt's dispatchers.
class EpollEventDispatcherFactory
{
public:
    enum class Kind
    {
        Qt,    // Qt's UNIX dispatcher (poll)
        Epoll, // EpollEventDispatcher
    };
    static constexpr Kind kDaemonDefault = Kind::Epoll; // bench/README.md, "Event dispatcher"

    static std::optional<Kind> parse(QStringView name); // "epoll" or "qt"
    static const char *name(Kind kind);

    // --event-dispatcher=NAME or --event-dispatcher NAME from a raw command line, read
    // before QCoreApplication exists; the daemon's default when absent, nullopt when the
    // value is not a dispatcher (the option parser then reports it).
    static std::optional<Kind> fromArguments(int argc, char **argv);

    // The kind for the threads the engine starts from now on (default Qt).
    static void setForEngineThreads(Kind kind);
    static Kind forEngineThreads();

    // A new dispatcher of that kind, or nullptr for Qt's (or when epoll is unavailable:
    // Qt's then, with a warning), for QCoreApplication/QThread::setEventDispatcher.
    static QAbstractEventDispatcher *create(Kind kind);
    // Gives a thread that has not started yet the engine threads' dispatcher.
    static void installOn(QThread *thread);
};

} // namespace greygate
