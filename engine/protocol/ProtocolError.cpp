// SPDX-License-Identifier: GPL-3.0-or-later
#include "ProtocolError.h"

#include <array>

namespace greygate::protocol {

namespace {

constexpr std::array<QStringView, 9> kNames = {
    u"unauthenticated", u"forbidden",    u"bad_request", u"not_found", u"stale_version",
    u"too_large",       u"rate_limited", u"internal",    u"conflict",
};

} // namespace

QString ProtocolError::codeName(ErrorCode code)
{
    return kNames[size_t(code)].toString();
}

std::optional<ErrorCode> ProtocolError::codeFromName(QStringView name)
{
    for (size_t i = 0; i < kNames.size(); ++i) {
        if (kNames[i] == name)
            return ErrorCode(i);
    }
    return std::nullopt;
}

QJsonObject ProtocolError::toJson() const
{
    QJsonObject o{{QStringLiteral("code"), codeName(code)}, {QStringLiteral("message"), message}};
    if (!field.isEmpty())
        o.insert(QStringLiteral("field"), field);
    return o;
}

std::optional<ProtocolError> ProtocolError::fromJson(const QJsonObject &object)
{
    const QJsonValue code = object.value(QStringLiteral("code"));
    const QJsonValue message = object.value(QStringLiteral("message"));
    const QJsonValue field = object.value(QStringLiteral("field"));
    if (!code.isString() || !message.isString() || !(field.isUndefined() || field.isString()))
        return std::nullopt;
    // A code this client does not know yet (a newer server) still reads as an error.
    ProtocolError e;
    e.code = codeFromName(code.toString()).value_or(ErrorCode::Internal);
    e.message = message.toString();
    e.field = field.toString();
    return e;
}

} // namespace greygate::protocol
