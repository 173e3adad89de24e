// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QFrame>
#include <QStringList>

class QLabel;
class QPushButton;

namespace greygate {

// A bar across the top of the main window for alerts when the desktop has no notification
// area (QSystemTrayIcon unavailable): the latest alert in bold with its line, how many more
// are waiting, and Dismiss (shows the next one, hides the bar after the last). Bounded: the
// latest kMaxKept alerts wait, older ones are dropped.
class NotificationBar : public QFrame
{
    Q_OBJECT

public:
    static constexpr qsizetype kMaxKept = 50;

    explicit NotificationBar(QWidget *parent = nullptr);

    void show(const QString &title, const QString &text, bool cleared);
    qsizetype waiting() const { return m_queue.size(); }
    QString currentTitle() const;

    void dismiss();

private:
    struct Item
    {
        QString title;
        QString text;
        bool cleared = false;
    };
    void refresh();

    QList<Item> m_queue; // the one shown first
    QLabel *m_label;
    QPushButton *m_dismiss;
};

} // namespace greygate
