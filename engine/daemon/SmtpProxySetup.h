// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "config/DaemonOptions.h"
#include "smtp/SmtpProxyOptions.h"

namespace greygate {

// The SMTP proxy's options from greygated's. False when an address cannot be used: *option
// names the option at fault ("bad --smtp-listen") and *error says why, for the start-up log.
bool smtpProxyOptionsFrom(const DaemonOptions &options, SmtpProxyOptions *out, const char **option,
                          QString *error);

} // namespace greygate
