// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>

namespace greygate {

class ProxyRegistry;

// Versions: the console's, Qt's (built against and running), and each connected proxy's
// engine and API version as its hello said, so a bug report names them all.
class AboutDialog : public QDialog
{
    Q_OBJECT

public:
    explicit AboutDialog(const ProxyRegistry &registry, QWidget *parent = nullptr);

    // The text shown (HTML), for tests.
    static QString versionsHtml(const ProxyRegistry &registry);
};

} // namespace greygate
