// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QLoggingCategory>

// "greygate.redis": the shared Redis store. Defined in RedisConnection.cpp.
Q_DECLARE_LOGGING_CATEGORY(lcRedis)
