// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

namespace greygate {

// Registers the console's icons (resources/greygate.qrc). The console library is static, so
// its resources must be registered by a call the linker keeps: main() and GUI tests call it.
void initConsoleResources();

} // namespace greygate
