// SPDX-License-Identifier: GPL-3.0-or-later
#include "JsonFields.h"

#include <cmath>

namespace greygate::protocol {

JsonFields::JsonFields(const QJsonObject &object, QString path)
    : m_object(object)
    , m_path(std::move(path))
{}

QString JsonFields::path(QStringView key) const
{
    return m_path.isEmpty() ? key.toString() : m_path + u'.' + key;
}

bool JsonFields::fail(QStringView key, const QString &message)
{
    if (!m_error)
        m_error = ProtocolError::badRequest(path(key), message);
    return false;
}

bool JsonFields::present(QStringView key, bool required, QJsonValue *value)
{
    if (!ok())
        return false;
    *value = m_object.value(key);
    if (value->isUndefined()) {
        if (required)
            fail(key, QStringLiteral("missing"));
        return false;
    }
    return true;
}

bool JsonFields::onlyKnown(std::initializer_list<QStringView> known)
{
    if (!ok())
        return false;
    for (auto it = m_object.begin(); it != m_object.end(); ++it) {
        bool listed = false;
        for (QStringView k : known)
            listed = listed || it.key() == k;
        if (!listed) {
            // The unknown key is hostile text: bound what goes back into the message.
            return fail(it.key().first(qMin<qsizetype>(it.key().size(), 64)),
                        QStringLiteral("unknown field"));
        }
    }
    return true;
}

bool JsonFields::string(QStringView key, QString *out, bool required, qsizetype maxLength)
{
    QJsonValue v;
    if (!present(key, required, &v))
        return ok();
    if (!v.isString())
        return fail(key, QStringLiteral("must be a string"));
    QString s = v.toString();
    if (s.size() > maxLength)
        return fail(key, QStringLiteral("longer than %1 characters").arg(maxLength));
    *out = std::move(s);
    return true;
}

bool JsonFields::integer(QStringView key, qint64 *out, qint64 min, qint64 max, bool required)
{
    QJsonValue v;
    if (!present(key, required, &v))
        return ok();
    const double d = v.toDouble(std::nan(""));
    if (!v.isDouble() || !std::isfinite(d) || d != std::floor(d) ||
        std::fabs(d) > double(kMaxExactInteger))
        return fail(key, QStringLiteral("must be an integer"));
    const auto i = qint64(d);
    if (i < min || i > max)
        return fail(key, QStringLiteral("must be between %1 and %2").arg(min).arg(max));
    *out = i;
    return true;
}

bool JsonFields::boolean(QStringView key, bool *out, bool required)
{
    QJsonValue v;
    if (!present(key, required, &v))
        return ok();
    if (!v.isBool())
        return fail(key, QStringLiteral("must be true or false"));
    *out = v.toBool();
    return true;
}

bool JsonFields::object(QStringView key, QJsonObject *out, bool required)
{
    QJsonValue v;
    if (!present(key, required, &v))
        return ok();
    if (!v.isObject())
        return fail(key, QStringLiteral("must be an object"));
    *out = v.toObject();
    return true;
}

bool JsonFields::array(QStringView key, QJsonArray *out, bool required, qsizetype maxItems)
{
    QJsonValue v;
    if (!present(key, required, &v))
        return ok();
    if (!v.isArray())
        return fail(key, QStringLiteral("must be an array"));
    QJsonArray a = v.toArray();
    if (a.size() > maxItems)
        return fail(key, QStringLiteral("more than %1 items").arg(maxItems));
    *out = std::move(a);
    return true;
}

bool JsonFields::choice(QStringView key, QString *out, std::initializer_list<QStringView> choices,
                        bool required)
{
    QString s;
    if (!string(key, &s, required, 64))
        return false;
    if (!m_object.contains(key))
        return true;
    QStringList names;
    for (QStringView c : choices) {
        if (c == s) {
            *out = s;
            return true;
        }
        names.append(c.toString());
    }
    return fail(key, QStringLiteral("must be one of: ") + names.join(QStringLiteral(", ")));
}

} // namespace greygate::protocol
