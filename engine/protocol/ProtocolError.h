// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QJsonObject>
#include <QString>
#include <optional>

namespace greygate::protocol {

// Stable error codes of the control API (docs/api.md, "Errors"). Scripts branch on these
// strings, so never rename one; add new ones at the end.
enum class ErrorCode : quint8
{
    Unauthenticated, // no or a wrong token
    Forbidden,       // the read-only token asked for a change
    BadRequest,      // malformed JSON, unknown method or field, wrong type (field names it)
    NotFound,        // no such policy, group, triplet...
    StaleVersion,    // changed by someone else meanwhile: reload and retry
    TooLarge,        // the message exceeds the size limit
    RateLimited,     // too many requests, or the address is banned for a while
    Internal,        // the server failed (the store could not commit)
    Conflict,        // the change breaks a rule of the state (a group still in use, a full table)
};

struct ProtocolError
{
    ErrorCode code = ErrorCode::Internal;
    QString message;
    QString field; // the offending field's path ("params.limit"), empty when none

    static QString codeName(ErrorCode code);
    static std::optional<ErrorCode> codeFromName(QStringView name);

    QJsonObject toJson() const;
    // The "error" object of a response; nullopt when it is not one.
    static std::optional<ProtocolError> fromJson(const QJsonObject &object);

    static ProtocolError badRequest(const QString &field, const QString &message)
    {
        return ProtocolError{ErrorCode::BadRequest, message, field};
    }
};

} // namespace greygate::protocol
