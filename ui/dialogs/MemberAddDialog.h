// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QPlainTextEdit;

namespace greygate {

// Adds members to a sender group: one per line (user@domain, @domain, *.domain or a
// network), each checked as it is typed, the first bad line named. Pasting a column out of a
// spreadsheet works: blank lines and spaces around members are ignored.
class MemberAddDialog : public QDialog
{
    Q_OBJECT

public:
    explicit MemberAddDialog(const QString &groupName, QWidget *parent = nullptr);

    void setText(const QString &text);
    QStringList members() const;
    QString validationError() const;

private:
    void validate();

    QPlainTextEdit *m_edit;
    QLabel *m_error;
    QDialogButtonBox *m_buttons;
};

} // namespace greygate
