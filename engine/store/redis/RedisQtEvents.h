// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QObject>

struct redisAsyncContext;
class QSocketNotifier;

namespace greygate {

// Drives one hiredis async context from the Qt event loop. Modelled on hiredis's own
// adapters/qt.h, which cannot be used as shipped with Debian's hiredis 0.14: it is a Q_OBJECT
// in a system header (no moc runs on it), uses Qt 4's string connects, and its destructor
// writes into a context that hiredis may already have freed after a disconnect. Here
// hiredis's cleanup hook forgets the context, so the adapter may outlive it.
class RedisQtEvents final : public QObject
{
public:
    explicit RedisQtEvents(QObject *parent = nullptr);
    ~RedisQtEvents() override;

    // Installs the hooks; false if the context already has an event library.
    bool attach(redisAsyncContext *context);

private:
    static void addRead(void *self);
    static void delRead(void *self);
    static void addWrite(void *self);
    static void delWrite(void *self);
    static void cleanup(void *self);

    redisAsyncContext *m_context = nullptr;
    QSocketNotifier *m_read = nullptr;
    QSocketNotifier *m_write = nullptr;
};

} // namespace greygate
