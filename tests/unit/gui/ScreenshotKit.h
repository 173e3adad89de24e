// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// What the screenshot grabbers (policy_, analysis_, release_screenshots) share: they run the
// console's pages against real proxies outside Qt Test, so they wait by spinning the event
// loop themselves.

#include <QApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QPixmap>
#include <QString>
#include <QThread>
#include <QWidget>
#include <cstdio>
#include <functional>

namespace greygate::screenshots {

// Keeps the event loop running for ms (the pages load and animate meanwhile).
inline void settle(int ms)
{
    const QDeadlineTimer until(ms);
    while (!until.hasExpired()) {
        QApplication::processEvents(QEventLoop::AllEvents, 50);
        QThread::msleep(10);
    }
}

inline bool waitFor(const std::function<bool()> &done, int ms)
{
    const QDeadlineTimer until(ms);
    while (!done() && !until.hasExpired()) {
        QApplication::processEvents(QEventLoop::AllEvents, 50);
        QThread::msleep(10);
    }
    return done();
}

// Writes DIR/NAME.png of what the widget shows and prints its path.
inline bool save(QWidget *widget, const QString &dir, const QString &name)
{
    const QString path = QDir(dir).filePath(name + QStringLiteral(".png"));
    if (!widget->grab().save(path))
        return false;
    std::printf("%s\n", qPrintable(path));
    return true;
}

// The grabber's exit status after saying what went wrong, named by the grabber.
inline int fail(const char *tool, const QString &message)
{
    std::fprintf(stderr, "%s: %s\n", tool, qPrintable(message));
    return 1;
}

} // namespace greygate::screenshots
