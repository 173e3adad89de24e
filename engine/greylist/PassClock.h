// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Clock.h"

#include <QPointer>
#include <QtGlobal>

class QAbstractEventDispatcher;

namespace greygate {

class EpollEventDispatcher;

// A clock (the system clock) read once per pass of an epoll event loop: a decision asks for the
// time three or four times (policies, engine, event, X-Greylist header) and a pass of the loop
// holds a few decisions and lasts microseconds, so one read serves them all. The time read
// is dropped at the start of every pass and before its end-of-pass callbacks (the commit),
// and after kMaxReadsPerValue uses, so a pass busy with many decisions moves on with the
// clock too: answers, events and logs stay correct to the second.
// Only the loop's thread uses the cache: from another thread, or without an epoll
// dispatcher (Qt's, the console's bundled engine), every now() reads the source.
class PassClock final : public Clock
{
public:
    // Reads source (which must outlive it) and follows the passes of dispatcher (the current
    // thread's when null); the thread that constructs it is the loop's thread.
    explicit PassClock(const Clock &source, QAbstractEventDispatcher *dispatcher = nullptr);
    ~PassClock() override;

    Seconds now() const override;

    static constexpr int kMaxReadsPerValue = 64;

private:
    const Clock &m_source;
    QPointer<EpollEventDispatcher> m_dispatcher;
    Qt::HANDLE m_thread = nullptr;
    mutable quint64 m_serial = 0; // the dispatcher's passSerial() when m_now was read
    mutable int m_readsLeft = 0;  // uses of m_now left; 0: read again
    mutable Seconds m_now = 0;
};

} // namespace greygate
