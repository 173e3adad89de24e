// SPDX-License-Identifier: GPL-3.0-or-later
// greygatectl: the control API on the command line (docs/api.md). Composition root only.

#include "Greygatectl.h"

#include <QCoreApplication>
#include <QTimer>

using namespace greygate;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("greygatectl"));
    QCoreApplication::setApplicationVersion(QStringLiteral(GREYGATE_VERSION));

    Greygatectl ctl;
    const int parsed = ctl.parse(app.arguments().mid(1));
    if (parsed != CtlOk)
        return parsed < 0 ? CtlOk : parsed;
    int code = CtlOk;
    QObject::connect(&ctl, &Greygatectl::finished, &app, [&code, &app](int c) {
        code = c;
        app.quit();
    });
    // From the event loop: a command that fails at once must quit a running loop.
    QTimer::singleShot(0, &ctl, &Greygatectl::run);
    app.exec();
    return code;
}
