// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QMetaObject>
#include <QObject>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace greygate {

// Items posted from any thread, handled in batches on the thread of `target`
// (--smtp-threads: connections handed to an I/O thread, decisions asked of the main thread
// and their answers, Message events, session ends). Only the post that finds the queue
// empty wakes the target, so under load one wake-up (one posted event, one eventfd write)
// carries many items. Owned by the target (or something it outlives): the wake-up event is
// dropped with the target.
template <typename T> class CrossThreadQueue
{
public:
    using Handler = std::function<void(std::vector<T> &batch)>;

    CrossThreadQueue(QObject *target, Handler handler)
        : m_target(target)
        , m_handler(std::move(handler))
    {}
    CrossThreadQueue(const CrossThreadQueue &) = delete;
    CrossThreadQueue &operator=(const CrossThreadQueue &) = delete;

    void post(T item)
    {
        bool wake = false;
        {
            std::lock_guard lock(m_mutex);
            wake = m_items.empty();
            m_items.push_back(std::move(item));
        }
        if (wake)
            QMetaObject::invokeMethod(
                m_target, [this] { drain(); }, Qt::QueuedConnection);
    }

    // On the target's thread: handles what is queued now (also called by the wake-up).
    void drain()
    {
        {
            std::lock_guard lock(m_mutex);
            m_batch.swap(m_items);
        }
        if (!m_batch.empty())
            m_handler(m_batch);
        m_batch.clear(); // keeps its capacity for the next swap
    }

private:
    QObject *const m_target;
    const Handler m_handler;
    std::mutex m_mutex;
    std::vector<T> m_items; // under m_mutex
    std::vector<T> m_batch; // the target thread's
};

} // namespace greygate
