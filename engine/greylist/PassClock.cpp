// SPDX-License-Identifier: GPL-3.0-or-later
#include "PassClock.h"

#include "util/EpollEventDispatcher.h"

#include <QAbstractEventDispatcher>
#include <QThread>

namespace greygate {

PassClock::PassClock(const Clock &source, QAbstractEventDispatcher *dispatcher)
    : m_source(source)
    , m_dispatcher(qobject_cast<EpollEventDispatcher *>(
          dispatcher ? dispatcher : QAbstractEventDispatcher::instance()))
    , m_thread(QThread::currentThreadId())
{}

PassClock::~PassClock() = default;

Seconds PassClock::now() const
{
    const EpollEventDispatcher *dispatcher = m_dispatcher.data();
    if (!dispatcher || QThread::currentThreadId() != m_thread)
        return m_source.now();
    const quint64 serial = dispatcher->passSerial();
    if (serial != m_serial || m_readsLeft == 0) {
        m_now = m_source.now();
        m_serial = serial;
        m_readsLeft = kMaxReadsPerValue;
    }
    --m_readsLeft;
    return m_now;
}

} // namespace greygate
