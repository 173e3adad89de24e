// SPDX-License-Identifier: GPL-3.0-or-later
#include "Resources.h"

#include <QtGlobal>

// Q_INIT_RESOURCE must be used outside any namespace.
static void initGreygateQrc()
{
    Q_INIT_RESOURCE(greygate);
}

namespace greygate {

void initConsoleResources()
{
    initGreygateQrc();
}

} // namespace greygate
