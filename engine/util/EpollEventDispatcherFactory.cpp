// SPDX-License-Identifier: GPL-3.0-or-later
#include "EpollEventDispatcherFactory.h"

#include "EpollEventDispatcher.h"

#include <QThread>
#include <atomic>
#include <cstring>

namespace greygate {

namespace {

std::atomic<EpollEventDispatcherFactory::Kind> g_engineThreads{
    EpollEventDispatcherFactory::Kind::Qt};

constexpr const char kOption[] = "--event-dispatcher";

} // namespace

std::optional<EpollEventDispatcherFactory::Kind>
EpollEventDispatcherFactory::parse(QStringView name)
{
    if (name.compare(u"epoll", Qt::CaseInsensitive) == 0)
        return Kind::Epoll;
    if (name.compare(u"qt", Qt::CaseInsensitive) == 0)
        return Kind::Qt;
    return std::nullopt;
}

const char *EpollEventDispatcherFactory::name(Kind kind)
{
    return kind == Kind::Epoll ? "epoll" : "qt";
}

std::optional<EpollEventDispatcherFactory::Kind>
EpollEventDispatcherFactory::fromArguments(int argc, char **argv)
{
    const size_t length = std::strlen(kOption);
    std::optional<Kind> kind = kDaemonDefault;
    // The last one wins, as for every other option.
    for (int i = 1; i < argc; ++i) {
        const char *arg = argv[i];
        if (std::strncmp(arg, kOption, length) != 0)
            continue;
        if (arg[length] == '=')
            kind = parse(QString::fromLocal8Bit(arg + length + 1));
        else if (arg[length] == '\0' && i + 1 < argc)
            kind = parse(QString::fromLocal8Bit(argv[++i]));
    }
    return kind;
}

void EpollEventDispatcherFactory::setForEngineThreads(Kind kind)
{
    g_engineThreads.store(kind, std::memory_order_relaxed);
}

EpollEventDispatcherFactory::Kind EpollEventDispatcherFactory::forEngineThreads()
{
    return g_engineThreads.load(std::memory_order_relaxed);
}

QAbstractEventDispatcher *EpollEventDispatcherFactory::create(Kind kind)
{
    if (kind != Kind::Epoll)
        return nullptr;
    auto *dispatcher = new EpollEventDispatcher;
    if (dispatcher->isValid())
        return dispatcher;
    delete dispatcher; // it said why; Qt's own dispatcher works everywhere
    return nullptr;
}

void EpollEventDispatcherFactory::installOn(QThread *thread)
{
    if (QAbstractEventDispatcher *dispatcher = create(forEngineThreads()))
        thread->setEventDispatcher(dispatcher);
}

} // namespace greygate
