// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QEvent>
#include <QSocketNotifier>

namespace greygate {

// A QSocketNotifier that calls its owner's member function straight from event(), instead
// of emitting activated() twice (its two overloads) through QMetaObject::activate and taking
// a QPointer on the way: that was ~4k instructions per proxied message (a readiness for each
// command, reply and accept; bench/README.md "SMTP proxy"). The owner owns the notifier, so
// it outlives every call; the handler may delete the notifier (nothing here runs after it).
template <typename Owner> class ReadinessNotifier final : public QSocketNotifier
{
public:
    using Handler = void (Owner::*)();

    ReadinessNotifier(qintptr fd, Type type, Owner *owner, Handler handler)
        : QSocketNotifier(fd, type)
        , m_owner(owner)
        , m_handler(handler)
    {}

protected:
    bool event(QEvent *e) override
    {
        if (e->type() == QEvent::SockAct || e->type() == QEvent::SockClose) {
            (m_owner->*m_handler)();
            return true;
        }
        return QSocketNotifier::event(e); // thread changes and the rest, as before
    }

private:
    Owner *m_owner;
    Handler m_handler;
};

} // namespace greygate
