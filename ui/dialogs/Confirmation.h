// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QStringList>

class QWidget;

namespace greygate {

// The one question asked before a destructive action, once for the whole selection: "Delete
// 3 triplets?" with the items listed (the first ten, then "and N more") and what follows.
class Confirmation
{
public:
    // action: "Delete", noun: "triplet"/"triplets" chosen by count; consequence: one sentence.
    static bool ask(QWidget *parent, const QString &action, const QString &singular,
                    const QString &plural, const QStringList &items, const QString &consequence);
    // The question's text, for tests.
    static QString text(const QString &action, const QString &singular, const QString &plural,
                        const QStringList &items, const QString &consequence);
    // Tests answer for the admin: >0 yes, 0 no, <0 ask (the default).
    static void setTestAnswer(int answer);
};

} // namespace greygate
