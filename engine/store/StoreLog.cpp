// SPDX-License-Identifier: GPL-3.0-or-later
#include "StoreLog.h"

namespace greygate {
Q_LOGGING_CATEGORY(lcStore, "greygate.store")
}
