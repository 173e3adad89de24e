// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Clock.h"

namespace greygate {

enum class Verdict : quint8
{
    Defer,             // first sight, or retried too early: 451 / DEFER_IF_PERMIT
    PassedNow,         // retried after the delay inside the window: accept, add X-Greylist
    PassedKnown,       // an already passed triplet: accept silently
    ClientWhitelisted, // the client network is auto-whitelisted: accept silently
};

struct Decision
{
    Verdict verdict = Verdict::Defer;
    quint32 attempts = 0; // attempts of the triplet including this one
    Seconds firstSeen = 0;
    Seconds waitSeconds = 0;    // Defer: seconds until a retry will pass
    Seconds delayedSeconds = 0; // PassedNow: how long greylisting delayed the mail

    bool accepted() const { return verdict != Verdict::Defer; }
};

} // namespace greygate
