// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "AutoAllowEntry.h"
#include "InternalConfig.h"
#include "Policy.h"
#include "SenderGroup.h"

namespace greygate {

// Everything an admin manages, as plain values: what the JSON documents hold, what a
// PolicySet snapshot gives, and what a PolicyIndex is compiled from.
struct PolicyDocument
{
    QList<Policy> policies;
    QList<SenderGroup> groups;
    QList<AutoAllowEntry> autoAllow;
    InternalConfig internal;
    // False when a document left "internal" out: importing it keeps the configuration.
    bool hasInternal = true;

    const SenderGroup *group(qint64 id) const
    {
        for (const SenderGroup &g : groups) {
            if (g.id == id)
                return &g;
        }
        return nullptr;
    }

    friend bool operator==(const PolicyDocument &, const PolicyDocument &) = default;
};

} // namespace greygate
