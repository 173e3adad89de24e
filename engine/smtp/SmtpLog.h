// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QLoggingCategory>

// "greygate.smtp": the SMTP proxy. Defined in SmtpServer.cpp.
Q_DECLARE_LOGGING_CATEGORY(lcSmtp)
