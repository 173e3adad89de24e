// SPDX-License-Identifier: GPL-3.0-or-later
#include "Version.h"

namespace greygate {

QByteArray versionString()
{
    return QByteArrayLiteral("greygate-" GREYGATE_VERSION);
}

} // namespace greygate
