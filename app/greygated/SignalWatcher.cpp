// SPDX-License-Identifier: GPL-3.0-or-later
#include "SignalWatcher.h"

#include <QString>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

namespace greygate {

namespace {

int g_fds[2] = {-1, -1}; // [0] read by the event loop, [1] written by the handler

void onSignal(int number)
{
    const int saved = errno;
    const char byte = char(number);
    [[maybe_unused]] const ssize_t n = ::write(g_fds[1], &byte, 1);
    errno = saved;
}

} // namespace

SignalWatcher::SignalWatcher(QObject *parent)
    : QObject(parent)
{}

SignalWatcher::~SignalWatcher()
{
    if (g_fds[0] < 0)
        return;
    struct sigaction action = {};
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGTERM, &action, nullptr);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGHUP, &action, nullptr);
    m_notifier.reset();
    ::close(g_fds[0]);
    ::close(g_fds[1]);
    g_fds[0] = g_fds[1] = -1;
}

bool SignalWatcher::install(QString *error)
{
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, g_fds) != 0) {
        *error = u"socketpair: " + QString::fromLocal8Bit(std::strerror(errno));
        return false;
    }
    m_notifier = std::make_unique<QSocketNotifier>(g_fds[0], QSocketNotifier::Read);
    connect(m_notifier.get(), &QSocketNotifier::activated, this, &SignalWatcher::readSignal);

    struct sigaction action = {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (int number : {SIGTERM, SIGINT, SIGHUP}) {
        if (::sigaction(number, &action, nullptr) != 0) {
            *error = u"sigaction: " + QString::fromLocal8Bit(std::strerror(errno));
            return false;
        }
    }
    // A client that vanishes mid-write must not kill the daemon.
    ::signal(SIGPIPE, SIG_IGN);
    return true;
}

void SignalWatcher::readSignal()
{
    char byte = 0;
    while (::read(g_fds[0], &byte, 1) == 1) {
        if (int(byte) == SIGHUP)
            Q_EMIT reloadRequested();
        else
            Q_EMIT terminationRequested(int(byte));
    }
}

} // namespace greygate
