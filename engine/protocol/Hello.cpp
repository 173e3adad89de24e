// SPDX-License-Identifier: GPL-3.0-or-later
#include "Hello.h"

#include "JsonFields.h"

namespace greygate::protocol {

QJsonObject Hello::toJson() const
{
    QJsonObject o{{QStringLiteral("apiVersion"), apiVersion},
                  {QStringLiteral("proxyName"), proxyName},
                  {QStringLiteral("engineVersion"), engineVersion},
                  {QStringLiteral("uptimeSeconds"), uptimeSeconds},
                  {QStringLiteral("storeKind"), storeKind},
                  {QStringLiteral("role"), role},
                  {QStringLiteral("config"), config}};
    if (!storeHealth.isEmpty())
        o.insert(QStringLiteral("storeHealth"), storeHealth);
    return o;
}

std::optional<Hello> Hello::fromJson(const QJsonObject &o, ProtocolError *error)
{
    JsonFields f(o, QStringLiteral("result"));
    Hello h;
    qint64 version = 0;
    f.onlyKnown({u"apiVersion", u"proxyName", u"engineVersion", u"uptimeSeconds", u"storeKind",
                 u"storeHealth", u"role", u"config"});
    f.integer(u"apiVersion", &version, 1, 1'000'000, true);
    f.string(u"proxyName", &h.proxyName, true);
    f.string(u"engineVersion", &h.engineVersion, true);
    f.integer(u"uptimeSeconds", &h.uptimeSeconds, 0, JsonFields::kMaxExactInteger, true);
    f.string(u"storeKind", &h.storeKind, true);
    f.choice(u"storeHealth", &h.storeHealth, {u"ok", u"failing", u"up", u"connecting", u"down"});
    f.choice(u"role", &h.role, {u"admin", u"readonly"}, true);
    f.object(u"config", &h.config);
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    h.apiVersion = int(version);
    return h;
}

} // namespace greygate::protocol
