def test_course_factory_builds_lessons_and_quiz(make_course):
    course = make_course(lessons=2)
    assert [lesson.title for lesson in course.lessons] == ["Lektion 1", "Lektion 2"]
    assert [len(q.answers) for q in course.questions] == [2, 3]
