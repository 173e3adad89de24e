// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "ProtocolError.h"

#include <QJsonArray>
#include <QJsonObject>
#include <initializer_list>

namespace greygate::protocol {

// Strict reading of one JSON object from the network: every getter checks the type and the
// bounds and, on the first problem, records a bad_request naming the field's path
// ("params.limit"); later calls then do nothing and return false, so a decoder can chain
// them and look at ok() once. Absent optional fields leave *out untouched.
class JsonFields
{
public:
    static constexpr qsizetype kDefaultMaxString = 4096;
    static constexpr qint64 kMaxExactInteger = qint64(1) << 53; // exact in a JSON number

    explicit JsonFields(const QJsonObject &object, QString path = QString());

    bool ok() const { return !m_error.has_value(); }
    const ProtocolError &error() const { return *m_error; }
    QString path(QStringView key) const;

    // Fails on any key not listed: a misspelt filter must not silently match everything.
    bool onlyKnown(std::initializer_list<QStringView> known);
    bool string(QStringView key, QString *out, bool required = false,
                qsizetype maxLength = kDefaultMaxString);
    bool integer(QStringView key, qint64 *out, qint64 min, qint64 max, bool required = false);
    bool boolean(QStringView key, bool *out, bool required = false);
    bool object(QStringView key, QJsonObject *out, bool required = false);
    bool array(QStringView key, QJsonArray *out, bool required = false,
               qsizetype maxItems = 100'000);
    // A string that must be one of `choices`.
    bool choice(QStringView key, QString *out, std::initializer_list<QStringView> choices,
                bool required = false);
    bool has(QStringView key) const { return m_object.contains(key); }

    bool fail(QStringView key, const QString &message);

private:
    bool present(QStringView key, bool required, QJsonValue *value);

    const QJsonObject &m_object;
    QString m_path;
    std::optional<ProtocolError> m_error;
};

} // namespace greygate::protocol
