// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

namespace greygate {

// Takes the page faults of a mapped journal segment on a thread of its own. The first write
// to each fresh page of a MAP_SHARED file is a fault through the file system (a page of the
// page cache allocated, zeroed and made writable: ~10 us on a VM), and the appends run on the
// policy server's event loop, which answers nobody meanwhile. Ranges handed here are made
// present and writable with MADV_POPULATE_WRITE, which writes nothing, so it may run while
// the appends copy into the same pages. Where the kernel lacks it (before Linux 5.14) the
// appends take the faults as before.
class JournalPrefaulter
{
public:
    JournalPrefaulter() = default;
    ~JournalPrefaulter();
    JournalPrefaulter(const JournalPrefaulter &) = delete;
    JournalPrefaulter &operator=(const JournalPrefaulter &) = delete;

    // Queues [address, address + bytes) (page aligned) of a live mapping. Never blocks on
    // the fault-in itself; the thread starts with the first request.
    void request(char *address, std::size_t bytes);
    // Drops what is queued and waits for a fault-in that is running: after it, nothing
    // touches the mapping, which may then be unmapped or its file cut.
    void cancel();
    // Waits until every queued range has been faulted in.
    void drain();
    // False once the kernel has refused MADV_POPULATE_WRITE: requests are then dropped.
    bool supported() const;

private:
    struct Range
    {
        char *address = nullptr;
        std::size_t bytes = 0;
    };
    void run();

    mutable std::mutex m_mutex;
    std::condition_variable m_wake; // work queued, or stop
    std::condition_variable m_idle; // the running fault-in ended
    std::vector<Range> m_queue;
    std::thread m_thread;
    bool m_busy = false;
    bool m_stop = false;
    bool m_supported = true;
};

} // namespace greygate
