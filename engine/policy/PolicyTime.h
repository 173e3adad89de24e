// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/Clock.h"

#include <QString>
#include <optional>

namespace greygate {

// Date-times in policy documents: ISO 8601 with an explicit zone ("2025-03-01T00:00:00Z",
// "2025-03-01T01:00:00+01:00"), always written back in UTC with a "Z". A time without a
// zone is refused: a validity window that moves with the server's time zone is a bug.
class PolicyTime
{
public:
    static QString toIso(Seconds t);
    static std::optional<Seconds> fromIso(QStringView text);
};

} // namespace greygate
