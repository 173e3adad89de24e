// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QLoggingCategory>

// "greygate.policyd": the policy server and its handlers. Defined in PolicyServer.cpp.
Q_DECLARE_LOGGING_CATEGORY(lcPolicyd)
