// SPDX-License-Identifier: GPL-3.0-or-later
#include "JournalPrefaulter.h"

#include "StoreLog.h"

#include <cerrno>
#include <cstring>
#include <pthread.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 // Linux 5.14; Debian 12's headers have it, older ones not
#endif

namespace greygate {

JournalPrefaulter::~JournalPrefaulter()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
        m_queue.clear();
    }
    m_wake.notify_one();
    if (m_thread.joinable())
        m_thread.join();
}

void JournalPrefaulter::request(char *address, std::size_t bytes)
{
    if (bytes == 0)
        return;
    {
        std::lock_guard lock(m_mutex);
        if (!m_supported || m_stop)
            return;
        m_queue.push_back({address, bytes});
        if (!m_thread.joinable())
            m_thread = std::thread([this] { run(); });
    }
    m_wake.notify_one();
}

void JournalPrefaulter::cancel()
{
    std::unique_lock lock(m_mutex);
    m_queue.clear();
    m_idle.wait(lock, [this] { return !m_busy; });
}

void JournalPrefaulter::drain()
{
    std::unique_lock lock(m_mutex);
    m_idle.wait(lock, [this] { return !m_busy && m_queue.empty(); });
}

bool JournalPrefaulter::supported() const
{
    std::lock_guard lock(m_mutex);
    return m_supported;
}

void JournalPrefaulter::run()
{
    pthread_setname_np(pthread_self(), "journal-fault");
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this] { return m_stop || !m_queue.empty(); });
        if (m_stop)
            return;
        const Range range = m_queue.front();
        m_queue.erase(m_queue.begin());
        m_busy = true;
        lock.unlock();
        // EFAULT (a page past the end of a file cut meanwhile) and ENOMEM only mean the
        // appends will take that fault themselves; EINVAL means the kernel has no such advice.
        const bool refused =
            ::madvise(range.address, range.bytes, MADV_POPULATE_WRITE) != 0 && errno == EINVAL;
        if (refused)
            qCDebug(lcStore, "journal pages are not faulted in ahead: %s", std::strerror(EINVAL));
        lock.lock();
        m_busy = false;
        if (refused) {
            m_supported = false;
            m_queue.clear();
        }
        m_idle.notify_all();
    }
}

} // namespace greygate
