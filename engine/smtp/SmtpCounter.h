// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QtGlobal>
#include <atomic>

namespace greygate::smtpcounter {

// The proxy's counters are written by the thread that owns them (a session's I/O thread)
// and read by the main thread (/metrics): relaxed atomic accesses, so that a reading is
// never torn and costs no lock (--smtp-threads, docs/smtp.md).
inline void bump(quint64 &counter)
{
    std::atomic_ref<quint64>(counter).fetch_add(1, std::memory_order_relaxed);
}

inline quint64 load(const quint64 &counter)
{
    return std::atomic_ref<quint64>(const_cast<quint64 &>(counter)).load(std::memory_order_relaxed);
}

} // namespace greygate::smtpcounter
