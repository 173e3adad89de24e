// SPDX-License-Identifier: GPL-3.0-or-later
#include "Envelope.h"

#include "JsonFields.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <cmath>

namespace greygate::protocol {

namespace {

// [id,time,outcome,attempts,policy,ref,client,sender,recipient,key,keyWhy] back into the
// attempt's object form, exactly as the server's has it ("ref" only when not 0, "key" and
// "keyWhy" only when not empty).
std::optional<QJsonObject> expandCompact(const QJsonArray &a)
{
    if (a.size() != 11)
        return std::nullopt;
    for (qsizetype i : {0, 1, 3, 5}) {
        const double v = a.at(i).toDouble(-1);
        if (!a.at(i).isDouble() || v < (i == 5 ? -JsonFields::kMaxExactInteger : 0) ||
            v > JsonFields::kMaxExactInteger || v != std::floor(v))
            return std::nullopt;
    }
    for (qsizetype i : {2, 4, 6, 7, 8, 9, 10}) {
        if (!a.at(i).isString())
            return std::nullopt;
    }
    QJsonObject o{
        {QStringLiteral("id"), a.at(0)},       {QStringLiteral("type"), QStringLiteral("attempt")},
        {QStringLiteral("time"), a.at(1)},     {QStringLiteral("outcome"), a.at(2)},
        {QStringLiteral("attempts"), a.at(3)}, {QStringLiteral("policy"), a.at(4)},
        {QStringLiteral("client"), a.at(6)},   {QStringLiteral("sender"), a.at(7)},
        {QStringLiteral("recipient"), a.at(8)}};
    if (a.at(5).toDouble() != 0)
        o.insert(QStringLiteral("ref"), a.at(5));
    if (!a.at(9).toString().isEmpty())
        o.insert(QStringLiteral("key"), a.at(9));
    if (!a.at(10).toString().isEmpty())
        o.insert(QStringLiteral("keyWhy"), a.at(10));
    return o;
}

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

bool validId(const QJsonValue &id)
{
    if (id.isString())
        return id.toString().size() <= Envelope::kMaxIdLength;
    if (id.isDouble()) {
        // Range first: converting a double beyond qint64 (an id of 1e300 from anyone, before
        // authentication) is undefined behaviour (found by fuzz_control_message).
        const double d = id.toDouble();
        return d >= 0 && d <= double(JsonFields::kMaxExactInteger) && d == double(qint64(d));
    }
    return false;
}

std::optional<QJsonObject> parseObject(QByteArrayView bytes, qsizetype maxBytes,
                                       ProtocolError *error)
{
    if (bytes.size() > maxBytes) {
        *error =
            ProtocolError{ErrorCode::TooLarge,
                          QStringLiteral("message larger than %1 bytes").arg(maxBytes), QString()};
        return std::nullopt;
    }
    QJsonParseError parse;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes.toByteArray(), &parse);
    if (parse.error != QJsonParseError::NoError) {
        *error = ProtocolError::badRequest(
            QString(),
            QStringLiteral("not JSON (offset %1: %2)").arg(parse.offset).arg(parse.errorString()));
        return std::nullopt;
    }
    if (!doc.isObject()) {
        *error = ProtocolError::badRequest(QString(), QStringLiteral("not a JSON object"));
        return std::nullopt;
    }
    return doc.object();
}

} // namespace

std::optional<Request> Envelope::decodeRequest(QByteArrayView bytes, qsizetype maxBytes,
                                               ProtocolError *error, QJsonValue *id)
{
    *id = QJsonValue::Null;
    const std::optional<QJsonObject> root = parseObject(bytes, maxBytes, error);
    if (!root)
        return std::nullopt;
    // The id first, so that every later error can be matched to its request by the client.
    const QJsonValue rawId = root->value(QStringLiteral("id"));
    if (!rawId.isUndefined() && !rawId.isNull()) {
        if (!validId(rawId)) {
            *error = ProtocolError::badRequest(
                QStringLiteral("id"),
                QStringLiteral("must be a string of at most %1 characters or an integer")
                    .arg(kMaxIdLength));
            return std::nullopt;
        }
        *id = rawId;
    }
    JsonFields f(*root);
    Request r;
    r.id = *id;
    qint64 version = kVersion;
    f.onlyKnown({u"v", u"id", u"method", u"params"});
    f.integer(u"v", &version, kVersion, kVersion);
    f.string(u"method", &r.method, true, kMaxMethodLength);
    f.object(u"params", &r.params);
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    return r;
}

QByteArray Envelope::result(const QJsonValue &id, const QJsonValue &result)
{
    return compact(QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("result"), result}});
}

QByteArray Envelope::error(const QJsonValue &id, const ProtocolError &error)
{
    return compact(
        QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("error"), error.toJson()}});
}

QByteArray Envelope::events(const QJsonArray &events)
{
    return compact(QJsonObject{{QStringLiteral("events"), events}});
}

QByteArray Envelope::resync(quint64 lastId)
{
    return compact(QJsonObject{
        {QStringLiteral("resync"), QJsonObject{{QStringLiteral("lastId"), qint64(lastId)}}}});
}

QByteArray Envelope::request(const QJsonValue &id, const QString &method, const QJsonObject &params)
{
    return compact(QJsonObject{{QStringLiteral("v"), kVersion},
                               {QStringLiteral("id"), id},
                               {QStringLiteral("method"), method},
                               {QStringLiteral("params"), params}});
}

std::optional<Incoming> Envelope::decodeIncoming(QByteArrayView bytes, qsizetype maxBytes,
                                                 QString *error)
{
    ProtocolError parseError;
    const std::optional<QJsonObject> root = parseObject(bytes, maxBytes, &parseError);
    if (!root) {
        *error = parseError.message;
        return std::nullopt;
    }
    Incoming in;
    if (root->contains(QStringLiteral("events"))) {
        const QJsonValue events = root->value(QStringLiteral("events"));
        if (!events.isArray() || root->size() != 1) {
            *error = QStringLiteral("malformed events message");
            return std::nullopt;
        }
        QJsonArray list = events.toArray();
        for (qsizetype i = 0; i < list.size(); ++i) {
            if (list.at(i).isArray()) { // a compact attempt (docs/api.md, "Compact events")
                std::optional<QJsonObject> e = expandCompact(list.at(i).toArray());
                if (!e) {
                    *error = QStringLiteral("malformed compact event");
                    return std::nullopt;
                }
                list.replace(i, *e);
            } else if (!list.at(i).isObject() ||
                       !list.at(i).toObject().value(QStringLiteral("id")).isDouble()) {
                *error = QStringLiteral("malformed event");
                return std::nullopt;
            }
        }
        in.kind = Incoming::Kind::Events;
        in.events = std::move(list);
        return in;
    }
    if (root->contains(QStringLiteral("resync"))) {
        const QJsonObject r = root->value(QStringLiteral("resync")).toObject();
        JsonFields f(r, QStringLiteral("resync"));
        qint64 lastId = 0;
        if (root->size() != 1 ||
            !f.integer(u"lastId", &lastId, 0, JsonFields::kMaxExactInteger, true)) {
            *error = QStringLiteral("malformed resync message");
            return std::nullopt;
        }
        in.kind = Incoming::Kind::Resync;
        in.lastId = quint64(lastId);
        return in;
    }
    in.id = root->value(QStringLiteral("id"));
    const bool hasResult = root->contains(QStringLiteral("result"));
    const bool hasError = root->contains(QStringLiteral("error"));
    if (in.id.isUndefined() || hasResult == hasError || root->size() != 2) {
        *error = QStringLiteral("neither a response nor an event");
        return std::nullopt;
    }
    if (hasResult) {
        in.kind = Incoming::Kind::Result;
        in.result = root->value(QStringLiteral("result"));
        return in;
    }
    const std::optional<ProtocolError> e =
        ProtocolError::fromJson(root->value(QStringLiteral("error")).toObject());
    if (!e) {
        *error = QStringLiteral("malformed error object");
        return std::nullopt;
    }
    in.kind = Incoming::Kind::Error;
    in.error = *e;
    return in;
}

} // namespace greygate::protocol
