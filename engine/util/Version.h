// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>

namespace greygate {

// "greygate-0.1.0": what the X-Greylist header and the logs name us as.
QByteArray versionString();

} // namespace greygate
