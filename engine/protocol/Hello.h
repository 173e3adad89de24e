// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "ProtocolError.h"

#include <QJsonObject>
#include <optional>

namespace greygate::protocol {

// The "hello" result: who this proxy is, so a console can tell proxies apart and refuse an
// API version it does not speak.
struct Hello
{
    int apiVersion = 0;
    QString proxyName;
    QString engineVersion; // "0.1.0"
    qint64 uptimeSeconds = 0;
    QString storeKind;  // "sqlite"
    QString role;       // "admin" / "readonly": what this connection may do
    QJsonObject config; // a summary: delay, retry window, lifetime... (informative)
    // "ok"/"failing" (SQLite: the last commit), "up"/"connecting"/"down" (Redis); empty: an
    // older proxy that does not tell
    QString storeHealth;

    QJsonObject toJson() const;
    static std::optional<Hello> fromJson(const QJsonObject &o, ProtocolError *error);
};

} // namespace greygate::protocol
