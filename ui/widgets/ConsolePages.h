// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QStringList>

namespace greygate {

class EngineControl;
class MainWindow;
class ProxyBook;
class ProxyRegistry;
class Settings;

// Builds every page of the console into a main window, in the navigation order of DESIGN.md
// §6 (Ctrl+1..9 follow it): dashboard, live attempts, greylist queue, policies, sender
// groups, auto allow, rejection viewer, reports, proxies. The analysis pages (console-
// analysis) are included when their headers are in the tree.
class ConsolePages
{
public:
    static void addAll(MainWindow &window, ProxyRegistry &registry, Settings &settings,
                       ProxyBook *book, EngineControl *engine);
    // The keys, in order ("dashboard", "live", ...), of the pages addAll() adds.
    static QStringList keys();
};

} // namespace greygate
