// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QtGlobal>

namespace greygate {

// Seconds since the Unix epoch. Greylisting works at one-second resolution (the reference
// delays are 60 s and 12 h), so whole seconds keep every comparison exact and testable.
using Seconds = qint64;

// Injected wherever time matters so that tests can walk a triplet through 12 hours in
// microseconds and hit every edge exactly.
class Clock
{
public:
    virtual ~Clock() = default;
    virtual Seconds now() const = 0;
};

class SystemClock final : public Clock
{
public:
    Seconds now() const override;
};

class ManualClock final : public Clock
{
public:
    explicit ManualClock(Seconds start = 1'800'000'000)
        : m_now(start)
    {}
    Seconds now() const override { return m_now; }
    void set(Seconds t) { m_now = t; }
    void advanceSeconds(Seconds s) { m_now += s; }
    void advanceMinutes(qint64 m) { m_now += m * 60; }
    void advanceHours(qint64 h) { m_now += h * 3600; }
    void advanceDays(qint64 d) { m_now += d * 86400; }

private:
    Seconds m_now;
};

} // namespace greygate
