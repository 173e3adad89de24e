// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "policyd/PolicyHandler.h"

namespace greygate {

// Answers DUNNO to every request without deciding anything and commits nothing: with the
// real PolicyServer around it, this measures the protocol path alone (accept, read, parse,
// one commit call per pass, write), the ceiling greygated can approach.
class DunnoPolicyHandler final : public PolicyHandler
{
public:
    QByteArray decide(const PolicyRequest &) override { return m_dunno; }
    bool commit() override { return true; }

private:
    const QByteArray m_dunno = QByteArrayLiteral("DUNNO");
};

} // namespace greygate
